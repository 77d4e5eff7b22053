#pragma once
/// Edits the generation parameters of the selected shot; every change is one merged UndoStack command.

#include <QWidget>
#include <string>

#include "frameloom/core/shot.h"

class QComboBox;
class QDoubleSpinBox;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;

namespace fl::studio {

class ProjectDocument;

/// Prompt, negative prompt, model, seed (+ randomise), sampler, steps, guidance, shift, size, frames, fps.
class ShotInspector : public QWidget {
    Q_OBJECT
public:
    explicit ShotInspector(ProjectDocument* document, QWidget* parent = nullptr);

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

private:
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
};

}  // namespace fl::studio
