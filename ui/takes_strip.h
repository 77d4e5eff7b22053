#pragma once
/// The takes of the selected shot side by side: thumbnails, seed, scores, the best take marked; and the
/// actions on takes (generate N variations, pick, extend, last frame to the next shot).

#include <QListWidget>
#include <QString>
#include <QWidget>
#include <filesystem>
#include <map>
#include <string>

#include "frameloom/consistency/ranking.h"
#include "frameloom/core/shot.h"

class QCheckBox;
class QDoubleSpinBox;
class QPushButton;
class QSpinBox;

namespace fl::studio {

class ThumbnailCache;

/// A strip of take cards for one shot.
class TakesStrip : public QWidget {
    Q_OBJECT
public:
    /// Item data roles of a take card.
    enum Role { IdRole = Qt::UserRole, ScoreRole, BestRole };

    explicit TakesStrip(ThumbnailCache* thumbnails, QWidget* parent = nullptr);

    QListWidget* list() const { return list_; }
    /// Shows the takes of `shot` (nullptr: none) with their scores; `best` gets the best-take mark.
    void rebuild(const core::Shot* shot, const std::filesystem::path& project_dir,
                 const std::map<std::string, consistency::TakeScores>& scores, const std::string& best);
    /// The take under the cursor in the strip, else the shot's selected take ("" when none).
    QString currentTake() const;
    /// How many variations "Generate N" makes.
    int variationCount() const;
    void setVariationCount(int n);
    /// Whether Extend colour-corrects the continuation (the consistency stage); on by default.
    bool correctExtensions() const;
    void setCorrectExtensions(bool on);
    /// Seconds Extend adds (0 = one pass of the model).
    double extendSeconds() const;
    void setExtendSeconds(double seconds);

signals:
    void takeClicked(const QString& take_id);
    void pickRequested(const QString& take_id);
    void extendRequested(const QString& take_id);
    /// Remix: the shot takes this take's settings and seed (locked), ready for an edited prompt.
    void remixRequested(const QString& take_id);
    void lastFrameToNextRequested(const QString& take_id);
    /// Remove the take from the shot (its file stays on disk).
    void removeRequested(const QString& take_id);
    void generateVariationsRequested(int count);

private:
    void update_buttons();

    ThumbnailCache* thumbnails_;
    std::string selected_;
    QListWidget* list_ = nullptr;
    QSpinBox* count_ = nullptr;
    QPushButton* generate_n_ = nullptr;
    QPushButton* pick_ = nullptr;
    QPushButton* extend_ = nullptr;
    QCheckBox* correct_ = nullptr;
    QDoubleSpinBox* extend_seconds_ = nullptr;
    QPushButton* last_frame_ = nullptr;
    QPushButton* remove_ = nullptr;
    QPushButton* remix_ = nullptr;
};

}  // namespace fl::studio
