#pragma once
/// The storyboard: one card per shot (thumbnail, name, prompt, duration, status), reordered by drag and drop.

#include <QListWidget>
#include <QString>
#include <QWidget>
#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "frameloom/core/project.h"

class QPushButton;

namespace fl::studio {

class ThumbnailCache;

/// What a shot card says about its takes.
enum class ShotStatus { NoTake, Generating, HasTakes, Failed };

/// "no take", "generating", "has takes", "failed".
QString to_text(ShotStatus status);

/// The list of shot cards. Dropping a card elsewhere asks for a move (shotDropped) instead of moving
/// the item itself: the document is the only source of truth, the list is rebuilt from it.
class ShotCardList : public QListWidget {
    Q_OBJECT
public:
    /// Item data roles of a card.
    enum Role { IdRole = Qt::UserRole, PromptRole, DurationRole, StatusRole };

    explicit ShotCardList(QWidget* parent = nullptr);

    /// Where a drop at `pos` (viewport coordinates) inserts: 0..count().
    int insertionRowAt(const QPoint& pos) const;
    /// What dropping the current card at `pos` (viewport coordinates) does: emits shotDropped. dropEvent
    /// calls it; tests call it directly (offscreen Qt delivers no synthetic drop events).
    void dropCurrentAt(const QPoint& pos);

signals:
    /// The card at `from_row` was dropped so that it lands before the card now at `insert_row`
    /// (0..count(), count() = at the end).
    void shotDropped(int from_row, int insert_row);

protected:
    void dropEvent(QDropEvent* event) override;
};

/// Shot cards plus Add / Duplicate / Delete buttons.
class StoryboardPanel : public QWidget {
    Q_OBJECT
public:
    explicit StoryboardPanel(ThumbnailCache* thumbnails, QWidget* parent = nullptr);

    ShotCardList* list() const { return list_; }

    /// Rebuilds the cards from the project; `current` is selected. Signals are blocked meanwhile.
    void rebuild(const core::Project& project, const std::filesystem::path& project_dir,
                 const std::string& current, const std::set<std::string>& generating,
                 const std::set<std::string>& failed);
    /// The status a card shows for a shot.
    static ShotStatus status_of(const core::Shot& shot, const std::set<std::string>& generating,
                                const std::set<std::string>& failed);

signals:
    void shotSelected(const QString& shot_id);
    void shotRenamed(const QString& shot_id, const QString& name);
    /// Move `shot_id` to `to_index` (index in the storyboard without the shot, as make_move_shot).
    void shotMoveRequested(const QString& shot_id, int to_index);
    void addRequested();
    void duplicateRequested();
    void deleteRequested();

private:
    ThumbnailCache* thumbnails_;
    ShotCardList* list_ = nullptr;
    QPushButton* add_ = nullptr;
    QPushButton* duplicate_ = nullptr;
    QPushButton* delete_ = nullptr;
    bool rebuilding_ = false;
};

}  // namespace fl::studio
