#pragma once
/// Edits the generation parameters of the selected shot; every change is one merged UndoStack command.

#include <QSize>
#include <QStringList>
#include <QWidget>
#include <array>
#include <map>
#include <string>

#include "frameloom/core/shot.h"

class QCheckBox;
class QComboBox;
class QListWidget;
class QDoubleSpinBox;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;

namespace fl::studio {

class ProjectDocument;

/// Prompt, negative prompt, model, seed (+ lock / randomise), sampler, steps, guidance, shift, aspect
/// preset and size, frames, fps, reference images (add or drop files) and first/last keyframes.
class ShotInspector : public QWidget {
    Q_OBJECT
public:
    explicit ShotInspector(ProjectDocument* document, QWidget* parent = nullptr);

    /// Aspect presets offered: "16:9", "9:16", "1:1", "2.39:1".
    static QStringList aspectPresets();
    /// The size for an aspect preset with about the pixel area of `base` (the model's own size), both
    /// sides multiples of `multiple` (16: what every model accepts) and at least `multiple`.
    /// 64x64 → 16:9 80x48, 9:16 48x80, 1:1 64x64, 2.39:1 112x48. Invalid preset: `base`.
    static QSize aspectSize(const QString& preset, QSize base, int multiple = 16);

    /// True when Generate keeps the shot's seed; false: every generation draws a fresh one.
    bool seedLocked() const;
    void setSeedLocked(bool locked);
    /// Puts the keyboard focus in the prompt with its text selected (to edit it at once).
    void focusPrompt();
    /// Applies an aspect preset to the shot (one undo step).
    bool applyAspect(const QString& preset);
    /// Adds reference images to the shot (one undo step); files that do not exist are refused.
    bool addReferenceFiles(const QStringList& files);
    /// Removes the reference at `row` (one undo step).
    bool removeReference(int row);
    /// The single-file conditioning fields, in the order the inspector shows them.
    enum class FileField { FirstFrame, LastFrame, Video, Mask };
    /// Sets (or clears, with an empty path) one of them (one undo step); a file that does not exist is
    /// refused.
    bool setConditioningFile(FileField field, const QString& file);
    bool setFirstFrameFile(const QString& file) { return setConditioningFile(FileField::FirstFrame, file); }
    bool setLastFrameFile(const QString& file) { return setConditioningFile(FileField::LastFrame, file); }
    /// What dropping files at `pos` does: onto a file field, sets it; elsewhere, adds reference images.
    /// dropEvent calls it; tests call it directly (offscreen Qt delivers no synthetic drop events).
    bool dropFiles(const QStringList& files, const QPoint& pos);

    /// Shows a shot (empty id: nothing selected, fields disabled).
    void setShot(const std::string& shot_id);
    const std::string& shot() const { return shot_id_; }

public slots:
    /// Re-reads the fields from the document (after undo/redo or another view's edit).
    void refresh();
    /// Puts a fresh random seed into the shot.
    void randomiseSeed();

signals:
    /// An edit was refused by the engine; the message is one line.
    void editFailed(const QString& message);

protected:
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    /// Pushes new conditioning for the shot as one (unmerged) undo step.
    bool commit_conditioning(const std::string& text_for_errors, core::Conditioning conditioning);
    /// The model's own picture size (its card's defaults), else the shot's current size.
    QSize model_base_size() const;
    /// Reads every field into params and pushes make_set_shot_params(merge=true) when they differ.
    void commit();
    void set_enabled(bool enabled);

    ProjectDocument* document_;
    std::string shot_id_;
    bool updating_ = false;

    QPlainTextEdit* prompt_ = nullptr;
    QPlainTextEdit* negative_ = nullptr;
    QComboBox* model_ = nullptr;
    QLineEdit* seed_ = nullptr;
    QComboBox* sampler_ = nullptr;
    QPushButton* randomise_ = nullptr;
    QSpinBox* steps_ = nullptr;
    QDoubleSpinBox* guidance_ = nullptr;
    QDoubleSpinBox* shift_ = nullptr;
    QComboBox* size_ = nullptr;
    QSpinBox* frames_ = nullptr;
    QComboBox* fps_ = nullptr;
    std::map<QString, QSize> model_sizes_;  ///< model id or alias → the size of its card's defaults
    QCheckBox* seed_lock_ = nullptr;
    QComboBox* aspect_ = nullptr;
    QListWidget* references_ = nullptr;
    QPushButton* add_reference_ = nullptr;
    QPushButton* remove_reference_ = nullptr;
    /// One row per FileField: the path shown, and its File… and Clear buttons.
    struct FileRow {
        QLineEdit* line = nullptr;
        QPushButton* choose = nullptr;
        QPushButton* clear = nullptr;
    };
    std::array<FileRow, 4> file_rows_;
};

}  // namespace fl::studio
